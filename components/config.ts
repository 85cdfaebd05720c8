// The one place config is read and validated: components receive the typed result and never read
// config themselves. The modules live in components/config/; this index keeps one import path.
export { crossStackFacts, crossStackProblems, type CrossStackFacts } from "./config/cross-stack";
export {
  ENVIRONMENT_KINDS,
  ENVIRONMENT_MINIMUMS,
  FLOOR_KEYS,
  PROJECT,
  environmentKindOf,
  type EnvironmentKind,
  type EnvironmentMinimums,
} from "./config/environments";
export { LOG_RETENTION_DAYS, RESERVED_NAMESPACES, RESERVED_NAMESPACE_PREFIXES } from "./config/formats";
export { PROVIDER_KEYS, parseConfig } from "./config/parse";
export {
  FIELDS,
  type ConfigKey,
  type ConfigValues,
  type Field,
  type FieldKind,
  type PlatformConfig,
} from "./config/schema";
export { SUBNET_MASKS, addressesPerAz, subnetsFit } from "./config/subnets";
export { ANNOUNCEMENT_CHANNEL } from "./config/timing-fields";
