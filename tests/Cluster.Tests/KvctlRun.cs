using System.Text.Json;
using KvActors.Cli;

namespace KvActors.Cluster.Tests;

/// <summary>One kvctl command line run in-process: its exit code and what it wrote.</summary>
internal sealed record KvctlRun(int Code, string Out, string Err)
{
    public static async Task<KvctlRun> Of(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await Kvctl.RunAsync(args, stdout, stderr);
        return new KvctlRun(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The lines on stderr; a failure writes exactly one.</summary>
    public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>stdout parsed as the one JSON object <c>--json</c> prints.</summary>
    public JsonElement Json()
    {
        Out.TrimEnd().Should().NotContain("\n", "--json prints one object on one line");
        return JsonDocument.Parse(Out).RootElement.Clone();
    }

    public override string ToString() => $"exit {Code}; stdout: {Out}; stderr: {Err}";
}

internal static class JsonElementExtensions
{
    public static string[] PropertyNames(this JsonElement element) => element.EnumerateObject().Select(p => p.Name).ToArray();
}
