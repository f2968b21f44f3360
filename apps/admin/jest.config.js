// Unit tests of admin (*.spec.ts): `nx test admin`. Shared settings (SWC, @gg/* aliases): jest.preset.js.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'admin',
  roots: ['<rootDir>/apps/admin'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
