// One lint config for the whole workspace: type-aware typescript-eslint on TypeScript, the
// recommended JavaScript rules on .mjs, and import rules that keep the package graph honest.
import js from '@eslint/js';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '**/coverage/**', '**/.tap/**', '.ci-work/**', '.bench-dist/**'],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.lint.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // The viewer page: browser code with its own program (DOM lib, JSX for preact).
    files: ['packages/viewer/src/app/**/*.ts', 'packages/viewer/src/app/**/*.tsx'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: ['./packages/viewer/src/app/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        fetch: 'readonly',
        performance: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
      },
    },
  },
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.lint.json' })],
    },
    rules: {
      'import-x/no-cycle': 'error',
      // A package is used through its name and its exports, never by a path into its folder.
      'import-x/no-relative-packages': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@enginegate/*/src/*', '@enginegate/*/dist/*', '@enginegate/*/test/*'],
              message: 'Import a package by its name; its internals are not its API.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },
  {
    files: ['**/*.ts', 'packages/viewer/src/app/**/*.tsx'],
    rules: {
      // An async function that satisfies a Promise-returning interface (LogSource.open, a tap
      // subtest) needs no await inside; the rule would force noise such as `await undefined`.
      '@typescript-eslint/require-await': 'off',
      // tap runs subtests in order and waits for each; its `t.test()` promise needs no await.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'skip', 'todo', 'only'], package: '@tapjs/core' },
            { from: 'package', name: ['test', 'skip', 'todo', 'only'], package: '@tapjs/test' },
            { from: 'package', name: ['test', 'skip', 'todo', 'only'], package: 'tap' },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // The size rule: a source file reads in one sitting, a function in one screen. A function
    // that must be longer says why on its own line:
    //   // eslint-disable-next-line max-lines-per-function -- <why>
    // Lines of code are counted; comments (the why) and blank lines are not.
    files: [
      'packages/*/src/**/*.ts',
      'packages/*/src/**/*.tsx',
      'plugins/*/src/**/*.ts',
      'examples/*/src/**/*.ts',
      'packages/cli/plugin-template/src/**/*.ts',
    ],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
  {
    // Tests take apart JSON answers and fixtures of unknown shape; in src every value is typed.
    files: ['**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
