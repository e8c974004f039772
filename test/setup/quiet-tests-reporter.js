// @ts-check
const path = require('node:path');

/**
 * Fails the run when a unit or integration test file whose tests all passed printed to the console from the
 * product or a library: a "sync failed ..." line from a run a test fails on purpose, or a library's warning,
 * reads like a real problem in a green run. Such output belongs in a logger the test passes in and reads
 * (e.g. test/support/n8n-logger.ts). What a test file prints itself (a figure it measured) is its own choice
 * and allowed. The reliability suite prints its own reports and is not checked. A run of a single file is not
 * checked either: jest then prints console output as it comes (its verbose mode) and keeps none to look at;
 * `npm test` and CI run many.
 *
 * Plain JavaScript because jest loads reporters without its TypeScript transform.
 */
class QuietTestsReporter {
	/** @param {{ rootDir: string }} globalConfig */
	constructor(globalConfig) {
		this.testDir = path.join(globalConfig.rootDir, 'test') + path.sep;
		/** @type {string[]} */
		this.noise = [];
	}

	/**
	 * @param {{ context: { config: { displayName?: { name: string } } } }} test
	 * @param {{ testFilePath: string, numFailingTests: number, testExecError?: unknown, console?: Array<{ message: string, origin: string, type: string }> }} result
	 */
	onTestResult(test, result) {
		const project = test.context.config.displayName?.name;
		if (project !== 'unit' && project !== 'integration') return;
		if (result.numFailingTests > 0 || result.testExecError) return;
		for (const entry of result.console ?? []) {
			// The first frame is the code that called console.*.
			const frame = entry.origin.split('\n')[0];
			const caller = /((?:[A-Za-z]:)?[^\s()]+):\d+:\d+/.exec(frame)?.[1] ?? '';
			if (path.resolve(caller).startsWith(this.testDir)) continue;
			const file = path.relative(path.dirname(this.testDir), result.testFilePath);
			const first = entry.message.split('\n')[0].slice(0, 160);
			this.noise.push(`  ${file}: console.${entry.type} "${first}"\n      ${frame.trim()}`);
		}
	}

	onRunComplete() {
		if (this.noise.length === 0) return;
		process.stderr.write(
			`\nPassing tests printed ${this.noise.length} console line(s) from the product or a library. A test that makes something ` +
				`fail on purpose should hand the code a logger it can read (as test/support/n8n-logger.ts does for n8n's), not let it print:\n` +
				`${this.noise.slice(0, 20).join('\n')}\n`,
		);
	}

	getLastError() {
		return this.noise.length > 0 ? new Error('passing tests printed console output from the product or a library') : undefined;
	}
}

module.exports = QuietTestsReporter;
