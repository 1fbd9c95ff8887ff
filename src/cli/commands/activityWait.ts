import { activityCommand } from '../daemonSession.js';

export default activityCommand(
  'wait',
  'attach',
  "wait for kilnd's activity ID to end, showing its progress",
  'Re-attaches to the activity: its progress is shown as it runs, and the command ends when it does (exit 1 if it failed).',
);
