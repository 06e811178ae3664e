import { noteTextUrls } from '../facts/note-plan.js';
import type { FollowUp } from './data-source.js';

/**
 * The follow-up read of gatherRecord for note texts held in Binaries (SPEC §8.1): the URLs of the texts the
 * selection will read (the newest 100, never one it would leave out). The session reads each with the EHR's
 * token under the hook call's deadline, a few at a time, and refuses any URL that is not under fhirServer
 * without making a request ('other-host'). What it reads lands in `record.related` under the URL as written,
 * failures in `record.relatedFailures`; src/facts/note-texts.ts reads them from there.
 */
export const noteAttachmentReads: FollowUp = (record) => noteTextUrls(record);
