/** Jest with the swc transformer: no type-check here, `tsc --noEmit` does that in `npm test`. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testMatch: ['<rootDir>/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  modulePathIgnorePatterns: ['<rootDir>/build/', '<rootDir>/dist/', '<rootDir>/examples/'],
  // CI never writes snapshots: a missing or changed snapshot is a failure to review.
  ci: true,
};
