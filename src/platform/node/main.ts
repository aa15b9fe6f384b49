/** The `vfiolab` executable: the CLI on the Node.js platform. */
import { runCli } from '../../lab/cli/main.js';
import { nodePlatform } from './node-platform.js';

const status = await runCli(process.argv.slice(2), nodePlatform());
process.exitCode = status;
