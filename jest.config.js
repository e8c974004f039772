/** Unit tests need nothing but Node; integration tests get a real PostgreSQL (see test/setup/global-setup.ts). */
const common = {
	preset: 'ts-jest',
	testEnvironment: 'node',
	transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

module.exports = {
	// Passing unit and integration tests print nothing from the product or its libraries (see the reporter).
	reporters: ['default', '<rootDir>/test/setup/quiet-tests-reporter.js'],
	globalSetup: '<rootDir>/test/setup/global-setup.ts',
	globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
	projects: [
		{ ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
		{ ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
		// Generated, fault-injected and multi-process suites: run by `npm run test:reliability` (see README).
		{ ...common, displayName: 'reliability', testMatch: ['<rootDir>/test/reliability/**/*.test.ts'] },
	],
};
