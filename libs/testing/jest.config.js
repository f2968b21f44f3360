// Unit tests of testing (*.spec.ts): `nx test testing`. Shared settings (SWC, @gg/* aliases): jest.preset.js.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'testing',
  roots: ['<rootDir>/libs/testing'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
