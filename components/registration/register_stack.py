"""Registers an environment's ZenML stack from a JSON spec, idempotently.

Run by the in-cluster registration Job (components/zenml-stack.ts) with a client of the
server's exact version. Connection comes from the ZenML client's own environment:
ZENML_STORE_URL plus ZENML_STORE_USERNAME/ZENML_STORE_PASSWORD (or ZENML_STORE_API_KEY).

It creates what is missing, updates what differs from the spec, leaves the rest alone, and
deletes stacks (and their now unused components and connector) that carry our ownership labels
but are no longer in the spec. Objects without our labels are never touched: a name clash is
an error. Prints one JSON summary line; never prints credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional

OWNER_LABEL = "zenml-platform/owner"
ENVIRONMENT_LABEL = "zenml-platform/environment"

# The spec's component keys are ZenML component types, registered in this order.
COMPONENT_TYPES = ("artifact_store", "container_registry", "orchestrator", "image_builder")
# Registered only when the spec names them (the environment runs the service behind them).
OPTIONAL_COMPONENT_TYPES = ("experiment_tracker",)
# A ZenML secret has no labels: this value marks the secrets the script created and may update.
SECRET_OWNER_KEY = "zenml_platform_owner"
# Environment variables holding secret values; scrub() keeps them out of every message.
SECRET_ENV_VARS = ["ZENML_STORE_PASSWORD", "ZENML_STORE_API_KEY", "ZENML_STORE_API_TOKEN"]


class RegistrationError(Exception):
    """A failure whose message is the whole story, printed as one line."""


@dataclass
class Summary:
    created: List[str] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)
    unchanged: List[str] = field(default_factory=list)
    deleted: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, List[str]]:
        return asdict(self)


def load_spec(path: Optional[str]) -> Dict[str, Any]:
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                raw: Optional[str] = f.read()
        except OSError as err:
            raise RegistrationError(f"cannot read the spec {path}: {err.strerror}") from None
    else:
        raw = os.environ.get("ZENML_PLATFORM_STACK_SPEC")
    if not raw:
        raise RegistrationError("no spec: pass --spec <file> or set ZENML_PLATFORM_STACK_SPEC")
    try:
        spec = json.loads(raw)
    except json.JSONDecodeError as err:
        raise RegistrationError(f"the spec is not JSON: {err}") from None
    validate_spec(spec)
    return spec


def validate_spec(spec: Any) -> None:
    """Checks the shape SPEC.md documents, so a bad spec fails before anything is touched."""

    def need(cond: bool, what: str) -> None:
        if not cond:
            raise RegistrationError(f"invalid spec: {what}")

    def text(node: Dict[str, Any], key: str, where: str) -> None:
        need(isinstance(node.get(key), str) and node[key].strip() != "", f"{where}.{key} must be a non-empty string")

    need(isinstance(spec, dict), "the top level must be an object")
    for key in ("owner", "environment"):
        text(spec, key, "spec")
    for key in ("stack", "connector", "components"):
        need(isinstance(spec.get(key), dict), f"spec.{key} must be an object")
    text(spec["stack"], "name", "stack")
    for key in ("name", "type", "auth_method"):
        text(spec["connector"], key, "connector")
    need(isinstance(spec["connector"].get("configuration"), dict), "connector.configuration must be an object")
    components = spec["components"]
    missing = [k for k in COMPONENT_TYPES if k not in components]
    need(not missing, f"components lack {', '.join(missing)}")
    extra = [k for k in components if k not in COMPONENT_TYPES and k not in OPTIONAL_COMPONENT_TYPES]
    need(not extra, f"unknown component(s) {', '.join(extra)}; expected {', '.join(COMPONENT_TYPES)} and optionally {', '.join(OPTIONAL_COMPONENT_TYPES)}")
    for key, comp in components.items():
        need(isinstance(comp, dict), f"components.{key} must be an object")
        text(comp, "name", f"components.{key}")
        text(comp, "flavor", f"components.{key}")
        need(isinstance(comp.get("configuration"), dict), f"components.{key}.configuration must be an object")
        rid = comp.get("connector_resource_id")
        need(rid is None or (isinstance(rid, str) and rid != ""), f"components.{key}.connector_resource_id must be a non-empty string or absent")
    secrets = spec.get("secrets", [])
    need(isinstance(secrets, list), "spec.secrets must be a list or absent")
    for i, secret in enumerate(secrets):
        need(isinstance(secret, dict), f"secrets[{i}] must be an object")
        text(secret, "name", f"secrets[{i}]")
        env = secret.get("values_from_env")
        need(isinstance(env, dict) and env and all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in env.items()), f"secrets[{i}].values_from_env must map value names to environment variable names")
        need(SECRET_OWNER_KEY not in env, f"secrets[{i}].values_from_env may not set {SECRET_OWNER_KEY}")


def component_keys(spec: Dict[str, Any]) -> List[str]:
    """The spec's components in registration order: the required four, then the optional ones it names."""
    return [*COMPONENT_TYPES, *(k for k in OPTIONAL_COMPONENT_TYPES if k in spec["components"])]


def ownership(spec: Dict[str, Any]) -> Dict[str, str]:
    return {OWNER_LABEL: spec["owner"], ENVIRONMENT_LABEL: spec["environment"]}


def is_ours(labels: Optional[Dict[str, Any]], spec: Dict[str, Any]) -> bool:
    labels = labels or {}
    return all(labels.get(k) == v for k, v in ownership(spec).items())


def refuse_foreign(kind: str, name: str, labels: Optional[Dict[str, Any]], spec: Dict[str, Any]) -> None:
    if not is_ours(labels, spec):
        raise RegistrationError(
            f"{kind} '{name}' exists but was not created by {spec['owner']} for '{spec['environment']}' "
            f"(labels {OWNER_LABEL}/{ENVIRONMENT_LABEL} missing or different); rename it or remove it by hand"
        )


def connect() -> Any:
    """A client of the server in ZENML_STORE_URL, proven to be logged in."""
    url = os.environ.get("ZENML_STORE_URL")
    if not url:
        raise RegistrationError("ZENML_STORE_URL is not set")
    if not url.startswith(("http://", "https://")):
        raise RegistrationError("ZENML_STORE_URL must be the server's http(s) URL, not a database")
    if not (os.environ.get("ZENML_STORE_API_KEY") or (os.environ.get("ZENML_STORE_USERNAME") and os.environ.get("ZENML_STORE_PASSWORD") is not None)):
        raise RegistrationError("no credentials: set ZENML_STORE_API_KEY, or ZENML_STORE_USERNAME and ZENML_STORE_PASSWORD")
    try:
        from zenml.client import Client

        client = Client()
        client.zen_store.get_store_info()
        client.zen_store.get_user()  # an authenticated call: bad credentials fail here, not halfway
        return client
    except Exception as err:  # the client raises many types for one cause: no usable server
        raise RegistrationError(f"cannot use the ZenML server at {url}: {first_line(err)}") from None


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def scrub(message: str) -> str:
    """Removes any credential value from a message before it is printed."""
    for key in SECRET_ENV_VARS:
        value = os.environ.get(key)
        if value and len(value) >= 4:
            message = message.replace(value, "***")
    return message


def find(getter: Any, *args: Any, **exact: bool) -> Optional[Any]:
    """The object of that exact name or None (a prefix match could find a neighbour's object)."""
    from zenml.exceptions import ZenKeyError

    try:
        return getter(*args, **(exact or {"allow_name_prefix_match": False}))
    except (KeyError, ZenKeyError):
        return None


def converge(summary: Summary, label: str, existing: Optional[Any], same: Callable[[], bool], create: Callable[[], Any], update: Callable[[], Any]) -> Any:
    """Creates what is missing, updates what differs, leaves the rest; records which it did."""
    if existing is None:
        made = create()
        summary.created.append(label)
        return made
    if same():
        summary.unchanged.append(label)
        return existing
    updated = update()
    summary.updated.append(label)
    return updated


def ensure_connector(client: Any, spec: Dict[str, Any], existing: Optional[Any], summary: Summary) -> Any:
    want = spec["connector"]
    # verify=False: registering must not need AWS; the server resolves credentials when used.
    wanted = dict(auth_method=want["auth_method"], configuration=dict(want["configuration"]), labels=ownership(spec), verify=False, list_resources=False)

    def same() -> bool:
        current = dict(existing.configuration.non_secrets) if hasattr(existing.configuration, "non_secrets") else dict(existing.configuration)
        return existing.auth_method == want["auth_method"] and {k: v for k, v in current.items() if v is not None} == want["configuration"]

    return converge(summary, f"service_connector:{want['name']}", existing, same,
                    create=lambda: client.create_service_connector(name=want["name"], connector_type=want["type"], **wanted)[0],
                    update=lambda: client.update_service_connector(name_id_or_prefix=existing.id, **wanted)[0])


def linked_as_wanted(component: Any, want: Dict[str, Any], connector_id: Any) -> bool:
    """Linked to our connector's resource when the spec names one, else to no connector."""
    resource_id = want.get("connector_resource_id")
    linked = component.connector.id if component.connector else None
    if resource_id is None:
        return linked is None
    return linked == connector_id and component.connector_resource_id == resource_id


def ensure_component(client: Any, spec: Dict[str, Any], key: str, existing: Optional[Any], connector: Any, summary: Summary) -> Any:
    from zenml.enums import StackComponentType

    want = spec["components"][key]
    ctype = StackComponentType(key)

    def same() -> bool:
        current = {k: v for k, v in (existing.configuration or {}).items() if v is not None}
        return current == want["configuration"] and linked_as_wanted(existing, want, connector.id)

    def update() -> Any:
        # Keys the spec no longer sets are cleared, so the stored configuration equals the spec.
        configuration = {**{k: None for k in (existing.configuration or {}) if k not in want["configuration"]}, **want["configuration"]}
        return client.update_stack_component(name_id_or_prefix=existing.id, component_type=ctype, configuration=configuration, labels=ownership(spec))

    component = converge(summary, f"{ctype.value}:{want['name']}", existing, same, update=update,
                         create=lambda: client.create_stack_component(name=want["name"], flavor=want["flavor"], component_type=ctype, configuration=dict(want["configuration"]), labels=ownership(spec)))
    if not linked_as_wanted(component, want, connector.id):
        resource_id = want.get("connector_resource_id")
        link = {"disconnect": True} if resource_id is None else {"connector_id": connector.id, "connector_resource_id": resource_id}
        component = client.update_stack_component(name_id_or_prefix=component.id, component_type=ctype, **link)
    return component


def ensure_stack(client: Any, spec: Dict[str, Any], existing: Optional[Any], components: Dict[str, Any], summary: Summary) -> Any:
    from zenml.enums import StackComponentType

    name = spec["stack"]["name"]
    wanted = {StackComponentType(key): comp.id for key, comp in components.items()}

    def current() -> Dict[Any, Any]:
        return {ctype: comps[0].id for ctype, comps in existing.components.items() if comps}

    def updates() -> Dict[Any, List[Any]]:
        # The spec owns the whole stack: a component someone added by hand to our stack is removed
        # from it (the component itself is left alone, it is not ours).
        return {**{t: [cid] for t, cid in wanted.items()}, **{t: [] for t in current() if t not in wanted}}

    return converge(summary, f"stack:{name}", existing, lambda: current() == wanted,
                    create=lambda: client.create_stack(name=name, components=wanted, labels=ownership(spec)),
                    update=lambda: client.update_stack(name_id_or_prefix=existing.id, component_updates=updates()))


def all_pages(lister: Any, **filters: Any) -> List[Any]:
    items: List[Any] = []
    page = 1
    while True:
        result = lister(page=page, size=100, hydrate=True, **filters)
        items.extend(result.items)
        if page >= result.total_pages:
            return items
        page += 1


def prune(client: Any, spec: Dict[str, Any], keep: Dict[str, Any], connector: Any, summary: Summary) -> None:
    """Deletes our stacks that left the spec, then our components and connectors nothing uses."""
    keep_stack = spec["stack"]["name"]
    for stack in all_pages(client.list_stacks):
        if stack.name != keep_stack and is_ours(stack.labels, spec):
            client.delete_stack(stack.id)
            summary.deleted.append(f"stack:{stack.name}")
    kept_ids = {c.id for c in keep.values()}
    for component in all_pages(client.list_stack_components):
        if component.id not in kept_ids and is_ours(component.labels, spec) and not all_pages(client.list_stacks, component_id=component.id):
            client.delete_stack_component(component.id, component.type)
            summary.deleted.append(f"{component.type.value}:{component.name}")
    for other in all_pages(client.list_service_connectors):
        if other.id != connector.id and is_ours(other.labels, spec) and not all_pages(client.list_stack_components, connector_id=other.id):
            client.delete_service_connector(other.id)
            summary.deleted.append(f"service_connector:{other.name}")


@dataclass
class Existing:
    """What the spec's names already denote on the server, looked up once before any write."""

    connector: Optional[Any]
    components: Dict[str, Optional[Any]]
    stack: Optional[Any]
    secrets: Dict[str, Optional[Any]]


def preflight(client: Any, spec: Dict[str, Any]) -> Existing:
    """Refuses before the first write: a clash found half-way would leave a partial registration."""
    from zenml.enums import StackComponentType

    want_connector = spec["connector"]
    connector = find(client.get_service_connector, want_connector["name"])
    if connector is not None:
        refuse_foreign("service connector", connector.name, connector.labels, spec)
        if connector.connector_type != want_connector["type"] and getattr(connector.connector_type, "connector_type", None) != want_connector["type"]:
            raise RegistrationError(f"service connector '{connector.name}' is of another type; remove it by hand to change its type")
    components: Dict[str, Optional[Any]] = {}
    for key in component_keys(spec):
        want = spec["components"][key]
        existing = find(client.get_stack_component, StackComponentType(key), want["name"])
        components[key] = existing
        if existing is None:
            continue
        refuse_foreign(key.replace("_", " "), existing.name, existing.labels, spec)
        if existing.flavor_name != want["flavor"]:
            raise RegistrationError(f"{key} '{existing.name}' has flavor '{existing.flavor_name}', the spec wants '{want['flavor']}'; remove it by hand to change flavor")
    stack = find(client.get_stack, spec["stack"]["name"])
    if stack is not None:
        refuse_foreign("stack", stack.name, stack.labels, spec)
    secrets: Dict[str, Optional[Any]] = {}
    for want in spec.get("secrets", []):
        missing = [env for env in want["values_from_env"].values() if not os.environ.get(env)]
        if missing:
            raise RegistrationError(f"secret '{want['name']}' takes its values from {', '.join(missing)}, which the job's environment does not set")
        existing = find(client.get_secret, want["name"], allow_partial_name_match=False, allow_partial_id_match=False)
        if existing is not None and existing.secret_values.get(SECRET_OWNER_KEY) != owner_mark(spec):
            raise RegistrationError(f"secret '{want['name']}' exists but was not created by {spec['owner']} for '{spec['environment']}' (no {SECRET_OWNER_KEY} value of ours); rename it or remove it by hand")
        secrets[want["name"]] = existing
    return Existing(connector, components, stack, secrets)


def owner_mark(spec: Dict[str, Any]) -> str:
    return f"{spec['owner']}/{spec['environment']}"


def ensure_secret(client: Any, spec: Dict[str, Any], want: Dict[str, Any], existing: Optional[Any], summary: Summary) -> None:
    """A ZenML secret whose values come from the job's environment, never from the spec."""
    values = {**{key: os.environ[env] for key, env in want["values_from_env"].items()}, SECRET_OWNER_KEY: owner_mark(spec)}
    converge(summary, f"secret:{want['name']}", existing, lambda: dict(existing.secret_values) == values,
             create=lambda: client.create_secret(name=want["name"], values=values),
             update=lambda: client.update_secret(existing.id, add_or_update_values=values, remove_values=[k for k in existing.secret_values if k not in values] or None))


def register(spec: Dict[str, Any]) -> Dict[str, List[str]]:
    client = connect()
    existing = preflight(client, spec)
    summary = Summary()
    step = "the secrets"
    try:
        # Secrets first: components refer to them as {{name.key}}.
        for want in spec.get("secrets", []):
            step = f"the secret '{want['name']}'"
            ensure_secret(client, spec, want, existing.secrets[want["name"]], summary)
        step = "the service connector"
        connector = ensure_connector(client, spec, existing.connector, summary)
        components = {}
        for key in component_keys(spec):
            step = f"the {key.replace('_', ' ')} '{spec['components'][key]['name']}'"
            components[key] = ensure_component(client, spec, key, existing.components[key], connector, summary)
        step = f"the stack '{spec['stack']['name']}'"
        ensure_stack(client, spec, existing.stack, components, summary)
        step = "pruning stacks that left the spec"
        prune(client, spec, components, connector, summary)
    except RegistrationError:
        raise
    except Exception as err:  # a server-side refusal or validation error: one line, not a traceback
        done = {k: v for k, v in summary.as_dict().items() if v}
        raise RegistrationError(f"failed at {step}: {type(err).__name__}: {first_line(err)} (done before: {json.dumps(done)})") from None
    return summary.as_dict()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", help="path of the JSON spec (default: $ZENML_PLATFORM_STACK_SPEC)")
    args = parser.parse_args(argv)
    # stdout carries only the summary: ZenML's own log lines go to stderr. The handler ZenML
    # installs binds sys.stdout when zenml is first imported, so swap it before that.
    out = sys.stdout
    sys.stdout = sys.stderr
    # A one-shot job needs no lasting client config; a non-root user in the client image has no
    # writable home either. A private temp dir unless the caller chose one.
    os.environ.setdefault("ZENML_CONFIG_PATH", tempfile.mkdtemp(prefix="zenml-register-"))
    os.environ.setdefault("ZENML_ANALYTICS_OPT_IN", "false")
    try:
        spec = load_spec(args.spec)
        SECRET_ENV_VARS.extend(env for secret in spec.get("secrets", []) for env in secret["values_from_env"].values())
        summary = register(spec)
    except RegistrationError as err:
        print(scrub(f"register_stack: {err}"), file=sys.stderr)
        return 1
    finally:
        sys.stdout = out
    print(json.dumps(summary), file=out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
