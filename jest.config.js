/**
 * Jest on native ESM: run through `node --experimental-vm-modules` (see scripts/run-jest.mjs).
 * Two projects: everything on Express 5, and the e2e and fault suites again on Express 4 (the `express4`
 * alias), so both the host app and the library's own `import express` get Express 4.
 */
const base = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
};

const mappers = {
  '^express-llm-proxy$': '<rootDir>/lib/index.ts',
  '^express-llm-proxy/(errors|health|redis)$': '<rootDir>/lib/$1/index.ts',
  '^(\\.{1,2}/.*)\\.js$': '$1',
};

export default {
  testTimeout: 20000,
  projects: [
    {
      ...base,
      displayName: 'express5',
      testMatch: ['**/*.test.ts'],
      globals: { EXPRESS_MAJOR: 5 },
      moduleNameMapper: mappers,
    },
    {
      ...base,
      displayName: 'express4',
      testMatch: ['<rootDir>/__tests__/e2e/**/*.test.ts', '<rootDir>/__tests__/faults/**/*.test.ts'],
      // These run the built package in a child process, which the mapping cannot reach.
      testPathIgnorePatterns: ['/node_modules/', '/__tests__/e2e/cjs-host\\.test\\.ts$', '/__tests__/faults/soak\\.test\\.ts$'],
      globals: { EXPRESS_MAJOR: 4 },
      moduleNameMapper: { '^express$': '<rootDir>/node_modules/express4/index.js', ...mappers },
    },
  ],
};
