using KvActors.Node.Hosting;

// The node's command line: `start` runs one node, `local` a cluster of several on this machine (NodeCommands).
return await NodeCommands.RunAsync(args, Console.Out, Console.Error);
