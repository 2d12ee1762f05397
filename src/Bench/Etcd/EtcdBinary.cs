using System.Diagnostics;

namespace KvActors.Bench.Etcd;

/// <summary>The etcd server executable: where it is, and which version it is.</summary>
internal static class EtcdBinary
{
    /// <summary>Where Debian and Ubuntu's <c>etcd-server</c> package installs it; tried after <c>PATH</c>.</summary>
    public const string PackagedPath = "/usr/bin/etcd";

    public const string InstallHint = "install it with: sudo apt-get install etcd-server etcd-client";

    private static readonly TimeSpan VersionTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The executable to run: <paramref name="explicitPath"/> if given (null if no file is there), otherwise the first
    /// <c>etcd</c> on <c>PATH</c>, then <see cref="PackagedPath"/>; null when there is none.
    /// </summary>
    public static string? Find(string? explicitPath)
    {
        if (explicitPath is not null) return File.Exists(explicitPath) ? Path.GetFullPath(explicitPath) : null;
        string[] folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (string folder in folders)
        {
            string candidate = Path.Combine(folder, "etcd");
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        return File.Exists(PackagedPath) ? PackagedPath : null;
    }

    /// <summary>What is missing and how to install it, for a <see cref="Load.BenchSetupException"/>.</summary>
    public static string NotFoundMessage(string? explicitPath) => explicitPath is null
        ? $"etcd was not found on PATH or at {PackagedPath}; {InstallHint}"
        : $"etcd was not found at {explicitPath}; {InstallHint} (or pass the path of an etcd 3.4+ server binary)";

    /// <summary>
    /// The version <c>etcd --version</c> prints (<c>3.4.23</c>), or <c>"(unknown version)"</c> when it prints none in
    /// time. Runs the binary once, for a few milliseconds.
    /// </summary>
    public static string ReadVersion(string binary)
    {
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--version");
        using var process = Process.Start(start);
        if (process is null) return "(unknown version)";
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(VersionTimeout))
        {
            process.Kill();                 // our own child, by its handle
            return "(unknown version)";
        }
        // The first line is "etcd Version: 3.4.23"; the Git SHA, Go version and platform follow.
        const string Prefix = "etcd Version:";
        foreach (string line in output.Result.Split('\n'))
        {
            if (line.StartsWith(Prefix, StringComparison.Ordinal)) return line[Prefix.Length..].Trim();
        }
        return "(unknown version)";
    }
}
