/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type checking runs once in `npm test` (tsc --noEmit); ts-jest only transpiles, which keeps the suite fast.
  transform: { '^.+\\.ts$': 'ts-jest' },
  snapshotSerializers: ['<rootDir>/test/support/asset-hash-serializer.ts', '<rootDir>/test/support/asset-order-serializer.ts'],
  testTimeout: 60_000,
  // cdktf jest matchers for the Google Cloud (CDKTF) tests.
  setupFilesAfterEnv: ['<rootDir>/test/support/cdktf-jest.ts'],
};
