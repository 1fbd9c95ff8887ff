import { activityCommand } from '../daemonSession.js';

export default activityCommand(
  'show',
  'show',
  "what kilnd's activity ID is doing or did",
  "Shows the activity's state (queued, running, completed, failed, cancelled), what it asked for and what came of it.",
);
