// Jest 30 in ESM mode (NODE_OPTIONS=--experimental-vm-modules), TypeScript stripped by swc.
// Type-checking stays with `tsc -b` (npm test runs it first).
const swc = ['@swc/jest', {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'es6' },
  sourceMaps: 'inline',
}];
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@anchorflow/plugin-sdk$': '<rootDir>/libs/plugin-sdk/src/index.ts',
    '^@anchorflow/plugin-sdk/testing$': '<rootDir>/libs/plugin-sdk/src/testing/index.ts',
    '^@anchorflow/engine$': '<rootDir>/libs/engine/src/index.ts',
    '^@anchorflow/engine/testing$': '<rootDir>/libs/engine/src/testing/index.ts',
    '^@anchorflow/persistence$': '<rootDir>/libs/persistence/src/index.ts',
    '^@anchorflow/persistence/testing$': '<rootDir>/libs/persistence/src/testing/index.ts',
    '^@anchorflow/transport$': '<rootDir>/libs/transport/src/index.ts',
    '^@anchorflow/plugin-core$': '<rootDir>/plugins/core/src/index.ts',
    '^@anchorflow/plugin-notifications$': '<rootDir>/plugins/notifications/src/index.ts',
    '^@anchorflow/plugin-payment-observer$': '<rootDir>/plugins/payment-observer/src/index.ts',
    '^@anchorflow/security$': '<rootDir>/libs/security/src/index.ts',
    '^@anchorflow/plugin-host$': '<rootDir>/libs/plugin-host/src/index.ts',
    '^@anchorflow/plugin-chain-anchor$': '<rootDir>/plugins/chain-anchor/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
  rootDir: '.',
};
export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{libs,plugins,apps}/*/src/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts', globalTeardown: '<rootDir>/test/setup/global-teardown.ts' },
  ],
  // generous: a test that hangs still fails, a loaded CI machine (daemon start-ups of 10–30 s) does not
  testTimeout: 60000,
  // skips for a missing PostgreSQL/NATS are collected and summarised at the end (ANCHORFLOW_REQUIRE_SERVICES=1 fails them instead)
  globalSetup: '<rootDir>/test/setup/services-setup.ts',
  globalTeardown: '<rootDir>/test/setup/services-teardown.ts',
};
