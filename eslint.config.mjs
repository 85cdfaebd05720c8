import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", ".cache/", "**/*.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // CommonJS that runs before any TypeScript can (tools/loader, tools/bench, .ci/run.d).
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "readonly", __dirname: "readonly", process: "readonly", console: "readonly" } },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    rules: {
      // `x || default` swallows 0 and false; config defaults must use ?? (see DESIGN.md).
      "@typescript-eslint/prefer-nullish-coalescing": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-restricted-syntax": [
        "error",
        { selector: "NewExpression[callee.object.name='pulumi'][callee.property.name='Config']", message: "Read config only in components/config.ts via parseConfig." },
      ],
    },
  },
);
