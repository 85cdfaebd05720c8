// Entry point: config in, one ZenmlEnvironment, outputs out. See components/stack.ts.
import { defineStack } from "./components/stack";

export = defineStack;
