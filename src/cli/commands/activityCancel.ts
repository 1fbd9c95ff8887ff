import { activityCommand } from '../daemonSession.js';

export default activityCommand(
  'cancel',
  'cancel',
  "cancel kilnd's activity ID while it is queued",
  'A queued activity is cancelled; one that runs already is not (its transaction is one step).',
);
