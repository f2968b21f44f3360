// Integration tests of db (*.int-spec.ts, real Redis at REDIS_URL and SQLite in a temp dir): `nx int db`.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'db:int',
  roots: ['<rootDir>/libs/db'],
  testMatch: ['**/*.int-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
