// Integration tests of testing (*.int-spec.ts, real Redis at REDIS_URL and SQLite in a temp dir): `nx int testing`.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'testing:int',
  roots: ['<rootDir>/libs/testing'],
  testMatch: ['**/*.int-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
