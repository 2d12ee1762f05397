namespace KvActors.Bench.Load;

/// <summary>What each closed-loop client does, over and over.</summary>
internal enum Workload
{
    /// <summary><c>put</c>: a value to a uniformly random key of the preloaded set.</summary>
    Put,

    /// <summary><c>get</c>: a linearizable read of a uniformly random key.</summary>
    Get,

    /// <summary><c>get-serializable</c>: a read of one member's local state (possibly stale).</summary>
    GetSerializable,
}

/// <summary>The names workloads go by on the command line, in tables and in JSON.</summary>
internal static class Workloads
{
    public static string Name(this Workload workload) => workload switch
    {
        Workload.Put => "put",
        Workload.Get => "get",
        _ => "get-serializable",
    };

    /// <summary>Parses a comma-separated list such as <c>put,get</c>.</summary>
    /// <exception cref="FormatException">An unknown name; the message lists the known ones.</exception>
    public static IReadOnlyList<Workload> ParseList(string text)
    {
        var list = new List<Workload>();
        foreach (string name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            list.Add(name switch
            {
                "put" => Workload.Put,
                "get" => Workload.Get,
                "get-serializable" => Workload.GetSerializable,
                _ => throw new FormatException($"unknown workload '{name}'; known: put, get, get-serializable"),
            });
        }
        if (list.Count == 0) throw new FormatException("--workloads names none; known: put, get, get-serializable");
        return list;
    }
}
