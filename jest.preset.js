// Shared jest settings: TypeScript through SWC (with decorator metadata for NestJS), @gg/* path aliases.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const swcrc = JSON.parse(readFileSync(join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.$schema;

module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': ['@swc/jest', { ...swcrc, swcrc: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@gg/(config|contracts|db|key-state|testing|nest-common)$': '<rootDir>/libs/$1/src/index.ts',
  },
  rootDir: __dirname,
  setupFiles: ['<rootDir>/tools/jest/undici-global.js'],
};
