// Unit tests of gateway (*.spec.ts): `nx test gateway`. Shared settings (SWC, @gg/* aliases): jest.preset.js.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'gateway',
  roots: ['<rootDir>/apps/gateway'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
