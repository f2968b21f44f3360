// Three kinds of tests (CONTRIBUTING.md "Three kinds of tests"): unit (*.spec.ts), integration (*.int-spec.ts) and end-to-end (*.e2e-spec.ts).
// Select with `--selectProjects unit|int|e2e`.
const preset = require('./jest.preset');

const ignore = ['/node_modules/', '/dist/', '/apps/admin-ui/'];

module.exports = {
  projects: [
    {
      ...preset,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.spec.ts'],
      testPathIgnorePatterns: ignore,
    },
    {
      ...preset,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'],
      testPathIgnorePatterns: ignore,
    },
    {
      ...preset,
      displayName: 'e2e',
      testMatch: ['<rootDir>/{apps,libs,test}/**/*.e2e-spec.ts'],
      testPathIgnorePatterns: ignore,
      testTimeout: 60000,
    },
  ],
};
