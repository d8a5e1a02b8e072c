/**
 * Jest on native ESM: run through `node --experimental-vm-modules` (see scripts/run-jest.mjs).
 * Two projects: everything on Express 5, and the host-facing suites (hosts, the example, client
 * auth, the admin routes) again on Express 4 (the `express4` alias), so both the host app and the
 * library's own `import express` get Express 4. The proxy itself is typed on node:http and does not
 * depend on the Express major, so its suites run once.
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
      testMatch: [
        '<rootDir>/__tests__/e2e/express-hosts.test.ts',
        '<rootDir>/__tests__/e2e/example.test.ts',
        '<rootDir>/__tests__/e2e/host-integration.test.ts',
        '<rootDir>/__tests__/e2e/client-auth.test.ts',
        '<rootDir>/__tests__/e2e/health-routes.test.ts',
        '<rootDir>/__tests__/faults/admin-input.test.ts',
      ],
      globals: { EXPRESS_MAJOR: 4 },
      moduleNameMapper: { '^express$': '<rootDir>/node_modules/express4/index.js', ...mappers },
    },
  ],
};
