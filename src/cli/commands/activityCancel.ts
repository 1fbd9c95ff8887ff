import { activityCommand } from '../daemonSession.js';

export default activityCommand(
  'cancel',
  'cancel',
  "cancel kilnd's activity ID, queued or running",
  [
    'A queued activity is cancelled at once. A running one stops at its next check before its commit',
    '(while it asks, downloads or extracts) and is rolled back; one already moving files into place',
    'completes. Either way this waits for it to end and shows how it ended.',
  ].join('\n'),
);
