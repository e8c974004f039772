import type { ICredentialDataDecryptedObject, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';
import { credentialTest } from '../../nodes/shared/credential-tests';
import { startCheckedSimulator, type CheckedSimulator } from '../support/st-sim';

/**
 * The ServiceTitan API credential's test (what n8n runs behind the credential form's "Test" button), against the
 * simulator over real HTTP, one wrong field at a time: each message must name the field to fix, as n8n shows it.
 */
let s: CheckedSimulator;

beforeAll(async () => {
	s = await startCheckedSimulator({ seed: 23, counts: { materials: 20, services: 10, equipment: 10, categories: 12 } });
});

afterAll(async () => {
	await s.stop();
});

beforeEach(() => {
	s.sim.control.clearFaults();
	s.sim.control.setQuirks({ unknownTenant: 'not_found' });
});

/** The credential as n8n hands it to the test: the simulator's values, with `changes` made. */
function credential(changes: ICredentialDataDecryptedObject = {}): ICredentialDataDecryptedObject {
	return {
		clientId: s.sim.clientId,
		clientSecret: s.sim.clientSecret,
		appKey: s.sim.appKey,
		tenantId: s.sim.tenantId,
		environment: 'integration',
		authUrl: s.sim.tokenUrl,
		apiBaseUrl: s.sim.apiBaseUrl,
		...changes,
	};
}

// The test functions' own context (n8n's ICredentialTestFunctions) is not used by this test.
const testCredential = (data: ICredentialDataDecryptedObject): Promise<INodeCredentialTestResult> =>
	credentialTest.serviceTitanApiTest.call({} as ICredentialTestFunctions, { id: 'st', name: 'ServiceTitan', type: 'serviceTitanApi', data });

describe('the ServiceTitan API credential test names the field to fix', () => {
	it('passes with the right values', async () => {
		expect(await testCredential(credential())).toEqual({ status: 'OK', message: expect.stringMatching(/accepted the credentials/) });
	});

	it('a wrong Client Secret (or Client ID): names both and Environment', async () => {
		const wrongs: ICredentialDataDecryptedObject[] = [{ clientSecret: 'cs1.not-the-secret' }, { clientId: 'cid.not-the-client' }];
		for (const wrong of wrongs) {
			const result = await testCredential(credential(wrong));
			expect(result.status).toBe('Error');
			expect(result.message).toMatch(/^ServiceTitan refused Client ID and Client Secret \(400\)\. Check both, and Environment/);
		}
	});

	it('a wrong App Key: the token is issued, the API refuses it; names App Key first, then Tenant ID', async () => {
		const result = await testCredential(credential({ appKey: 'ak1.0000000000000000' }));
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(
			/accepted Client ID and Client Secret but refused the pricebook request \(401\)\. Check App Key; if it is right, check that Tenant ID/,
		);
	});

	it.each([
		['not_found', /does not know this tenant \(404\)\. Check Tenant ID, and Environment/],
		// ServiceTitan's answer to a wrong tenant is not documented: each plausible answer names Tenant ID.
		[
			'unauthorized',
			/refused the pricebook request \(401\)\. Check App Key; if it is right, check that Tenant ID is the tenant that issued this Client ID/,
		],
		['forbidden', /refused to let this app read the pricebook \(403\)\. Check Tenant ID: that tenant must have connected the app of this App Key/],
	] as const)('a wrong Tenant ID, answered %s: names Tenant ID', async (answer, expected) => {
		s.sim.control.setQuirks({ unknownTenant: answer });
		const result = await testCredential(credential({ tenantId: '7654321' }));
		expect(result.status).toBe('Error');
		expect(result.message).toMatch(expected);
	});

	it('a wrong API Base URL Override or Token URL Override: names it and Environment', async () => {
		const api = await testCredential(credential({ apiBaseUrl: `${s.sim.apiBaseUrl}/v2` }));
		expect(api.message).toMatch(/did not reach ServiceTitan's pricebook API \(404, not its own answer\)\. Check API Base URL Override .*Environment/);
		const token = await testCredential(credential({ authUrl: `${s.sim.tokenUrl}/v2` }));
		expect(token.message).toMatch(/^The token URL answered 404\. Check Environment, and Token URL Override/);
	});

	it('a field left empty or malformed: names it as the form does', async () => {
		const result = await testCredential(credential({ tenantId: 'perfect-catch', appKey: '' }));
		expect(result).toEqual({
			status: 'Error',
			message: 'Fix: App Key is missing; Tenant ID must be the numeric ServiceTitan tenant id.',
		});
	});

	it('the simulator answered every request as the OpenAPI document allows', () => {
		expect(s.contract.violations()).toEqual([]);
	});
});
