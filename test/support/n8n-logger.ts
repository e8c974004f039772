import { Logger as N8nLogger } from '@n8n/backend-common';
import { Container } from '@n8n/di';
import { LoggerProxy, type Logger, type LogMetadata } from 'n8n-workflow';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LogLine {
	level: LogLevel;
	message: string;
	metadata?: LogMetadata;
}

/**
 * The logger n8n hands our nodes (`this.logger`), as the in-process harness provides it: it keeps each line for
 * tests to read instead of printing it. n8n's own would write to the console, so every run a test makes fail on
 * purpose ("materials entity sync failed: ...") showed up among passing tests as if something were wrong.
 */
export class RecordingLogger implements Logger {
	readonly lines: LogLine[] = [];

	error = (message: string, metadata?: LogMetadata): void => this.record('error', message, metadata);
	warn = (message: string, metadata?: LogMetadata): void => this.record('warn', message, metadata);
	info = (message: string, metadata?: LogMetadata): void => this.record('info', message, metadata);
	debug = (message: string, metadata?: LogMetadata): void => this.record('debug', message, metadata);

	/** n8n's engine asks for scoped loggers; one record is enough here. */
	scoped(): this {
		return this;
	}

	/** The messages logged at a level (all levels without one), oldest first. */
	messages(level?: LogLevel): string[] {
		return this.lines.filter((l) => level === undefined || l.level === level).map((l) => l.message);
	}

	clear(): void {
		this.lines.length = 0;
	}

	private record(level: LogLevel, message: string, metadata?: LogMetadata): void {
		this.lines.push({ level, message, metadata });
	}
}

/** Puts a recording logger where n8n looks for its logger (the DI container, and n8n-workflow's proxy). */
export function installRecordingLogger(): RecordingLogger {
	const logger = new RecordingLogger();
	Container.set(N8nLogger, logger as unknown as N8nLogger);
	LoggerProxy.init(logger);
	return logger;
}
