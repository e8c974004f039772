import {
	NodeConnectionTypes,
	NodeOperationError,
	type IDataObject,
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
} from 'n8n-workflow';
import { downloadFeed, importVendorPrices, loadVendorConfig } from '../../lib';
import { credentialTest } from '../shared/credential-tests';
import { lazyDatabase } from '../shared/context';
import { perItem } from '../shared/items';
import { runTrigger } from '../shared/trigger';

/**
 * Downloads one vendor's price feed and imports it into vendor_prices (local only: never sent to ServiceTitan).
 * A thin wrapper around lib/vendor; the result (counts, unmatched SKUs, bad rows with their lines) is the output.
 */
export class VendorPriceImport implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Vendor Price Import',
		name: 'vendorPriceImport',
		icon: { light: 'file:vendorPriceImport.svg', dark: 'file:vendorPriceImport.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["vendor"] }}',
		description: 'Import a vendor price feed (CSV or JSON) into the pricebook database',
		documentationUrl: 'https://github.com/perfectcatch/n8n-nodes-perfectcatch-pricebook/blob/main/docs/operating.md#the-nodes',
		defaults: { name: 'Vendor Price Import' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{ name: 'pricebookDatabase', required: true, testedBy: 'pricebookDatabaseTest' },
			{ name: 'vendorFeedApi', required: true, displayOptions: { show: { authentication: ['headerAuth'] } } },
		],
		properties: [
			{
				displayName: 'Vendor',
				name: 'vendor',
				type: 'string',
				default: 'ced',
				required: true,
				description: 'The vendor key: ced, pool360, homedepot, or one added by the column mapping below',
			},
			{
				displayName: 'Feed URL',
				name: 'feedUrl',
				type: 'string',
				default: '',
				required: true,
				placeholder: 'https://vendor.example.com/prices.csv',
				description:
					'Where to download the feed (http or https). A redirect to another site is followed without the credential; one from https to http, or to an internal address, is refused.',
			},
			{
				displayName: 'Authentication',
				name: 'authentication',
				type: 'options',
				options: [
					{ name: 'None', value: 'none' },
					{ name: 'Vendor Price Feed Credential (Header)', value: 'headerAuth' },
				],
				default: 'none',
				description: 'How the vendor portal wants the download authenticated',
			},
			{
				displayName: 'Format',
				name: 'format',
				type: 'options',
				options: [
					{ name: 'Detect', value: 'auto' },
					{ name: 'CSV', value: 'csv' },
					{ name: 'JSON', value: 'json' },
				],
				default: 'auto',
			},
			{
				displayName: 'Column Mapping',
				name: 'mapping',
				type: 'json',
				default: '{}',
				description: 'Overrides of the vendor column mappings, e.g. {"ced": {"columns": {"price": "Contract Price"}}}',
			},
			{
				displayName: 'Timeout (Seconds)',
				name: 'timeoutSeconds',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 60,
				description: 'How long the whole download may take, redirects and body included',
			},
			{
				displayName: 'Dry Run',
				name: 'dryRun',
				type: 'boolean',
				default: false,
				description: 'Whether to only report what would change, writing nothing',
			},
		],
	};

	methods = { credentialTest };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		// Opened inside perItem: with its error output on, a database that is down must be the import's failure.
		const openDb = lazyDatabase(this);
		const trigger = runTrigger(this);
		return perItem(this, 1, async (i) => {
			const db = await openDb();
			const url = this.getNodeParameter('feedUrl', i) as string;
			const rawMapping = this.getNodeParameter('mapping', i, '{}') as string | IDataObject;
			const vendors = loadVendorConfig(typeof rawMapping === 'string' ? (rawMapping.trim() ? JSON.parse(rawMapping) : {}) : rawMapping);
			const headers: Record<string, string> = {};
			if (this.getNodeParameter('authentication', i) === 'headerAuth') {
				const auth = await this.getCredentials('vendorFeedApi', i);
				headers[String(auth.headerName)] = String(auth.headerValue);
			}
			// Downloaded to a temporary file and imported from it piece by piece: a large feed must not take n8n's memory.
			const feed = await downloadFeed(url, { timeoutMs: (this.getNodeParameter('timeoutSeconds', i, 60) as number) * 1000, headers });
			let result;
			try {
				const format = this.getNodeParameter('format', i, 'auto') as string;
				const u = new URL(url);
				result = await importVendorPrices(db, {
					vendor: this.getNodeParameter('vendor', i) as string,
					file: feed.file,
					format: format === 'csv' || format === 'json' ? format : undefined,
					dryRun: this.getNodeParameter('dryRun', i, false) as boolean,
					vendors,
					source: `${u.origin}${u.pathname}`,
					trigger,
				});
			} finally {
				await feed.remove();
			}
			if (!result.success) throw new NodeOperationError(this.getNode(), `Vendor ${result.vendor}: ${result.error}`, { itemIndex: i });
			return [{ output: 0, json: result as unknown as IDataObject }];
		});
	}
}
