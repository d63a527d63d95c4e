/** Worker of ThreadedLimit: runs the limit loop over the records it is sent. */
import { parentPort } from 'node:worker_threads';
import { limitLoop, type LimitTask } from './limit.js';

parentPort!.on('message', (task: LimitTask) => parentPort!.postMessage(limitLoop(task)));
