// Integration tests of key-state (*.int-spec.ts, real Redis at REDIS_URL and SQLite in a temp dir): `nx int key-state`.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'key-state:int',
  roots: ['<rootDir>/libs/key-state'],
  testMatch: ['**/*.int-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
