import axios, { type AxiosInstance } from 'axios';
import * as http from 'node:http';
import * as https from 'node:https';
import { StApiError, type Redactor } from './errors';

export interface RawRequest {
	method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
	url: string;
	headers: Record<string, string>;
	body?: string;
	/** For error messages: the part of the URL below the API base, free of secrets. */
	label: string;
}

export interface RawResponse {
	status: number;
	headers: Record<string, string | undefined>;
	body: string;
}

export interface TransportOptions {
	timeoutMs: number;
	httpAgent?: http.Agent;
	httpsAgent?: https.Agent;
	userAgent: string;
	redactor: Redactor;
	/** Larger answers are cut off and fail as `too_large`. */
	maxResponseBytes: number;
}

/**
 * One HTTP exchange, nothing more: no retries, no status handling. axios errors carry the request config with
 * its Authorization header, so they are caught here and replaced by an StApiError holding plain data only.
 */
export class HttpTransport {
	private readonly axios: AxiosInstance;
	private readonly ownedAgents: Array<http.Agent | https.Agent> = [];

	constructor(private readonly options: TransportOptions) {
		const httpAgent = options.httpAgent ?? this.own(new http.Agent({ keepAlive: true, maxSockets: 16 }));
		const httpsAgent = options.httpsAgent ?? this.own(new https.Agent({ keepAlive: true, maxSockets: 16 }));
		this.axios = axios.create({
			httpAgent,
			httpsAgent,
			timeout: options.timeoutMs,
			// Every status is an answer to classify, not an exception; bodies stay text so malformed JSON is
			// detected here instead of being silently passed on as a string.
			validateStatus: () => true,
			responseType: 'text',
			transformResponse: [(data: unknown) => data],
			// Never follow a redirect with the bearer token attached.
			maxRedirects: 0,
			transitional: { clarifyTimeoutError: true },
			// A runaway answer is stopped while it arrives, not after it has filled the memory.
			maxContentLength: options.maxResponseBytes,
		});
	}

	private own<T extends http.Agent | https.Agent>(agent: T): T {
		this.ownedAgents.push(agent);
		return agent;
	}

	async send(request: RawRequest): Promise<RawResponse> {
		try {
			const response = await this.axios.request<string>({
				method: request.method,
				url: request.url,
				headers: { 'User-Agent': this.options.userAgent, ...request.headers },
				data: request.body,
			});
			const headers: Record<string, string | undefined> = {};
			for (const [key, value] of Object.entries(response.headers ?? {})) {
				headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value == null ? undefined : String(value);
			}
			return { status: response.status, headers, body: typeof response.data === 'string' ? response.data : '' };
		} catch (error: unknown) {
			throw this.transportError(request, error);
		}
	}

	private transportError(request: RawRequest, error: unknown): StApiError {
		const code = axios.isAxiosError(error) ? error.code : undefined;
		if (error instanceof Error && error.message.startsWith('maxContentLength size of')) {
			return new StApiError(
				`ServiceTitan ${request.method} ${request.label} answered more than ${formatBytes(this.options.maxResponseBytes)}, ` +
					`the client's response size limit (maxResponseBytes): the answer was not read`,
				{ kind: 'too_large', retryable: false, method: request.method, path: request.label },
			);
		}
		const timedOut = code === 'ETIMEDOUT' || code === 'ECONNABORTED';
		// The axios message ("connect ECONNREFUSED 127.0.0.1:4010", "socket hang up", "timeout of 100ms exceeded")
		// names no secret, but it passes through the redactor anyway: a proxy or server could echo anything.
		const detail = this.options.redactor.redact(error instanceof Error ? error.message : String(error));
		return new StApiError(`ServiceTitan ${request.method} ${request.label} ${timedOut ? 'timed out' : 'failed'}: ${detail}${code ? ` (${code})` : ''}`, {
			kind: timedOut ? 'timeout' : 'network',
			retryable: true,
			method: request.method,
			path: request.label,
			...(code ? { code } : {}),
		});
	}

	/** Closes the keep-alive sockets of agents this transport created (not of agents passed in). */
	close(): void {
		for (const agent of this.ownedAgents) agent.destroy();
	}
}

function formatBytes(bytes: number): string {
	const mb = bytes / (1024 * 1024);
	if (mb >= 1 && Number.isInteger(mb)) return `${mb} MB`;
	const kb = bytes / 1024;
	return kb >= 1 && Number.isInteger(kb) ? `${kb} KB` : `${bytes} bytes`;
}
