// Integration tests of gateway (*.int-spec.ts, real Redis at REDIS_URL and SQLite in a temp dir): `nx int gateway`.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'gateway:int',
  roots: ['<rootDir>/apps/gateway'],
  testMatch: ['**/*.int-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
