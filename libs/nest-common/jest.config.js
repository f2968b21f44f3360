// Unit tests of nest-common (*.spec.ts): `nx test nest-common`. Shared settings (SWC, @gg/* aliases): jest.preset.js.
const preset = require('../../jest.preset');

module.exports = {
  ...preset,
  displayName: 'nest-common',
  roots: ['<rootDir>/libs/nest-common'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
