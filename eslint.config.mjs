import js from "@eslint/js";
import globals from "globals";
import mocha from "eslint-plugin-mocha";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", ".build/**", ".sandbox/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    // Plain CommonJS scripts that mocha or node load as they are (the summary reporter).
    files: ["**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["tests/**/*.ts"],
    plugins: { mocha },
    rules: {
      "mocha/no-exclusive-tests": "error",
      "mocha/no-pending-tests": "error",
      "@typescript-eslint/no-unused-expressions": "off",
    },
  },
);
