using System.Runtime.CompilerServices;

// The tests check internal structures (the state machine's ordered map) directly, and the benchmark measures them.
[assembly: InternalsVisibleTo("KvActors.Node.Tests")]
[assembly: InternalsVisibleTo("KvActors.Bench")]
