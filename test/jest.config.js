// Unit tests of the e2e project (test/deploy/*.spec.ts: Docker and Kubernetes files): `nx test e2e`.
const preset = require('../jest.preset');

module.exports = {
  ...preset,
  displayName: 'e2e:unit',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  passWithNoTests: true,
};
