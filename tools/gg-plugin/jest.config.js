// Unit tests of the workspace generators (*.spec.ts): `nx test gg-plugin`. Shared settings: jest.preset.js.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'gg-plugin',
  roots: ['<rootDir>/tools/gg-plugin'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
