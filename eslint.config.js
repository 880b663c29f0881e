// Lint rules: type-aware typescript-eslint, with floating promises treated as errors because an
// unhandled rejection in a controller is a silent outage.
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/**', '.cache/**', '.tap/**', 'coverage/**', 'certs/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js', 'src/cli/dashboard/client/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Limits the code meets today, as errors, so that it stays readable as routers and providers land.
      complexity: ['error', 15],
      'max-depth': ['error', 4],
      'max-params': ['error', 6],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // A factory closure longer than this is several jobs sharing state (the reconciler was 290 lines): split it.
    // Tests are left out: a tap test's callback is a list of cases, not a unit of logic.
    files: ['src/**/*.ts', 'bin/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 100, skipBlankLines: true, skipComments: true }] },
  },
  {
    // tap collects subtests itself; an un-awaited t.test() at a file's top level is its idiom.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafePromises: [{ from: 'package', name: 'PromiseWithSubtest', package: '@tapjs/core' }],
      }],
    },
  },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
  // The dashboard's browser script: plain JavaScript served as it is, linted without type information.
  { files: ['src/cli/dashboard/client/*.js'], ...tseslint.configs.disableTypeChecked },
)
