// Type-aware lint for the whole house (typescript-eslint, recommendedTypeChecked).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      'no-console': 'off',
    },
  },
  {
    // Nothing in the build imports test support (testing/, test/) or the technician commands (scripts/).
    files: ['drivers/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/testing/**', '**/test/**', '../**/scripts/**'] }],
    },
  },
  {
    // The reference platform is another program: it meets the daemon only in the sync wire (its types and the hotlist's signature).
    files: ['platform/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/daemon/**/*.js', '!**/daemon/sync/wire.js', '!**/daemon/sync/hotlist-signature.js', '**/drivers/**', '**/state/**', '**/testing/**', '**/test/**', '**/scripts/**'] }],
    },
  },
  {
    files: ['daemon/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/platform/**', '**/testing/**', '**/test/**', '../**/scripts/**'] }],
    },
  },
  {
    // core/ is the ground floor: it imports nothing of the house and knows no protocol or device.
    files: ['core/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/apdu/**', '**/drivers/**', '**/state/**', '**/daemon/**', '**/scripts/**', '**/testing/**', '**/test/**', 'pcsclite', 'node:fs', 'node:net', 'fs', 'net'] }],
    },
  },
  {
    // The house's dependency rule (README "Layout"): apdu/ imports only core/;
    // state/ never imports a concrete driver, the daemon, the database or the network.
    files: ['apdu/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/drivers/**', '**/state/**', '**/daemon/**', '**/scripts/**', '**/testing/**', '**/test/**', 'pcsclite', 'node:fs', 'node:net', 'fs', 'net'] }],
    },
  },
  {
    files: ['state/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/drivers/**', '**/daemon/**', '**/scripts/**', '**/testing/**', '**/test/**', 'pcsclite', 'better-sqlite3', 'node-hid', 'serialport', 'node:net', 'node:http', 'ws'] }],
    },
  },
  {
    // The pages (web/) are a client of the public API like any other: they may use core/'s pure
    // helpers (text, masks, backoff) and nothing else of the house, and no Node module.
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    ignores: ['**/*.test.ts', 'web/vite.config.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/apdu/**', '**/drivers/**', '**/state/**', '**/daemon/**', '**/platform/**', '**/scripts/**', '**/testing/**', '**/test/**', 'node:*', 'ws', 'pcsclite'] }],
    },
  },
  {
    // Unit tests and the test support beside them use testing/, never the end-to-end suites' helpers
    // (test/helpers/ is the end-to-end suites' own: daemons, virtual readers, rigs).
    files: ['core/**/*.test.ts', 'apdu/**/*.test.ts', 'drivers/**/*.test.ts', 'state/**/*.test.ts', 'daemon/**/*.test.ts', 'platform/**/*.test.ts', 'scripts/**/*.test.ts', 'web/**/*.test.ts', 'testing/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/test/**'] }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'testing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
);
