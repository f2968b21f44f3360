// Unit tests of key-state (*.spec.ts): `nx test key-state`. Shared settings (SWC, @gg/* aliases): jest.preset.js.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'key-state',
  roots: ['<rootDir>/libs/key-state'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
