import { DateTime } from 'luxon';

/** "5 minutes ago" (or "in 5 minutes" for a time after `now`). */
export function ago(iso: string | null, now: Date): string {
	if (!iso) return 'never';
	const s = Math.round((now.getTime() - Date.parse(iso)) / 1000);
	if (s < 0) return `in ${until(iso, now)}`;
	if (s < 90) return `${s} seconds ago`;
	if (s < 5400) return `${Math.round(s / 60)} minutes ago`;
	if (s < 172800) return `${Math.round(s / 3600)} hours ago`;
	return `${Math.round(s / 86400)} days ago`;
}

/** "5 minutes" from `now` to a later time (0 seconds for a time already past). */
export function until(iso: string, now: Date): string {
	const s = Math.max(0, Math.round((Date.parse(iso) - now.getTime()) / 1000));
	if (s < 90) return `${s} seconds`;
	if (s < 5400) return `${Math.round(s / 60)} minutes`;
	return `${Math.round(s / 3600)} hours`;
}

/**
 * The instant itself, as a person reads it anywhere: "2026-03-10 09:00:00 -05:00" (date, time and UTC offset in
 * `zone`, an IANA name or 'system'). A relative time is true only at the moment it was written; this stays true
 * in a saved or mailed copy.
 */
export function absolute(iso: string, zone: string): string {
	return DateTime.fromISO(iso, { zone }).toFormat('yyyy-MM-dd HH:mm:ss ZZ');
}

/** Refuses a zone luxon does not know, which would otherwise print "Invalid DateTime" on every line. */
export function checkZone(zone: string): void {
	if (!DateTime.now().setZone(zone).isValid) {
		throw new Error(`unknown time zone "${zone}": use an IANA name such as America/Chicago, or "system" for this machine's`);
	}
}
