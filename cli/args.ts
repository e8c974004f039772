/** A small, strict argument parser: unknown flags are usage errors, never silently ignored. */
export class UsageError extends Error {}

export interface FlagSpec {
	/** 'boolean' flags take no value; 'string' flags take the next argument or `--flag=value`. */
	type: 'boolean' | 'string';
	description: string;
	valueName?: string;
}

export interface ParsedArgs {
	positionals: string[];
	flags: Record<string, string | boolean>;
}

export function parseArgs(argv: string[], specs: Record<string, FlagSpec>): ParsedArgs {
	const positionals: string[] = [];
	const flags: Record<string, string | boolean> = {};
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (arg === '--') {
			positionals.push(...argv.slice(i + 1));
			break;
		}
		if (!arg.startsWith('--')) {
			positionals.push(arg);
			continue;
		}
		const eq = arg.indexOf('=');
		const name = arg.slice(2, eq === -1 ? undefined : eq);
		// Own keys only: `--constructor` or `--__proto__` is an unknown option like any other.
		const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
		if (!spec) throw new UsageError(`unknown option --${name}`);
		if (spec.type === 'boolean') {
			if (eq !== -1) throw new UsageError(`--${name} takes no value`);
			flags[name] = true;
			continue;
		}
		let value: string | undefined;
		if (eq !== -1) value = arg.slice(eq + 1);
		else {
			value = argv[i + 1];
			i++;
		}
		if (value === undefined || (eq === -1 && value.startsWith('--'))) {
			throw new UsageError(`--${name} needs a value${spec.valueName ? ` (${spec.valueName})` : ''}`);
		}
		flags[name] = value;
	}
	return { positionals, flags };
}

export function formatFlags(specs: Record<string, FlagSpec>): string {
	return Object.entries(specs)
		.map(([name, spec]) => {
			const left = spec.type === 'string' ? `--${name} <${spec.valueName ?? 'value'}>` : `--${name}`;
			return `  ${left.padEnd(34)} ${spec.description}`;
		})
		.join('\n');
}
