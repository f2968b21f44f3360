// Integration tests of nest-common (*.int-spec.ts, real Redis at REDIS_URL and SQLite in a temp dir): `nx int nest-common`.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'nest-common:int',
  roots: ['<rootDir>/libs/nest-common'],
  testMatch: ['**/*.int-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
