// What every Raft test reads: the core's ids, log and messages, and the harness with its shorthand (R, T, I, E).
global using KvActors.Raft.Ids;
global using KvActors.Raft.Log;
global using KvActors.Raft.Messages;
global using KvActors.Raft.Tests.Harness;
global using static KvActors.Raft.Tests.Harness.Shorthand;
