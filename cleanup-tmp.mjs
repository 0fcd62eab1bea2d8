import { Queue } from 'bullmq';
const q = new Queue('sdq', { connection: { host: '127.0.0.1', port: 6399, maxRetriesPerRequest: null } });
const jobs = await q.getJobs(['wait', 'waiting', 'failed', 'delayed', 'completed', 'active', 'prioritized', 'paused']);
const mine = jobs.filter((j) => j && j.name === 'bench-cell');
let removed = 0;
for (const j of mine) { try { await j.remove(); removed++; } catch (e) { console.log('could not remove', j.id, e.message); } }
console.log('bench-cell jobs found', mine.length, 'removed', removed);
await q.close();
