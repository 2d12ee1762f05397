using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace KvActors.Bench.Etcd;

/// <summary>
/// One etcd member process on 127.0.0.1: its name (<c>m1</c>), data folder, ports and log (<c>etcd.log</c> in the data
/// folder, appended to across restarts). Started and stopped only through the <see cref="Process"/> it started.
/// </summary>
internal sealed class EtcdMember(string name, string dataDirectory, int clientPort, int peerPort)
{
    private const int SigTerm = 15;
    private const int MaxTailBytes = 64 * 1024;

    private Process? _process;

    public string Name { get; } = name;

    public string DataDirectory { get; } = dataDirectory;

    // etcd warns once per start that etcd.log is an unknown file in its data folder; it ignores it.
    public string LogPath { get; } = Path.Combine(dataDirectory, "etcd.log");

    public string ClientUrl { get; } = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{clientPort}");

    public string PeerUrl { get; } = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{peerPort}");

    /// <summary>etcd keeps its WAL and database in <c>member/</c>: once there, the member restarts on its data.</summary>
    public bool HasData => Directory.Exists(Path.Combine(DataDirectory, "member"));

    /// <summary>The running process's PID, or null when it is not running.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>The exit code when the process started last has exited, otherwise null.</summary>
    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>
    /// Starts <paramref name="binary"/> with <paramref name="arguments"/>. A shell opens the log and then <c>exec</c>s etcd,
    /// so etcd itself (the same PID, whose CPU time is charged) writes stdout and stderr straight to the file: this process
    /// pumps no pipes, and the log outlives it.
    /// </summary>
    public void Start(string binary, IReadOnlyList<string> arguments)
    {
        if (_process is not null) throw new InvalidOperationException($"etcd member {Name} is already started");
        Directory.CreateDirectory(DataDirectory);
        var header = new StringBuilder();
        header.Append(CultureInfo.InvariantCulture, $"--- {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss.fff}Z kvactors bench starts: {binary}");
        foreach (string argument in arguments) header.Append(' ').Append(argument);
        File.AppendAllText(LogPath, header.Append('\n').ToString());

        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            WorkingDirectory = DataDirectory,
            RedirectStandardInput = true,      // not the terminal's: etcd reads nothing
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("log=$1; shift; exec \"$@\" >>\"$log\" 2>&1");
        start.ArgumentList.Add("sh");          // $0
        start.ArgumentList.Add(LogPath);       // $1
        start.ArgumentList.Add(binary);
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        // etcd also reads ETCD_* variables; only the flags given here should configure the members.
        foreach (string variable in start.Environment.Keys.Where(static k => k.StartsWith("ETCD_", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(variable);
        _process = Process.Start(start) ?? throw new InvalidOperationException($"etcd member {Name}: the process did not start");
    }

    /// <summary>
    /// Sends SIGTERM to the process this member started (etcd then stops cleanly), waits up to <paramref name="timeout"/>,
    /// and kills it if it is still running. Keeps the data. Does nothing when not started.
    /// </summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        Process? process = _process;
        if (process is null) return;
        _process = null;
        try
        {
            // Only our own child, and only while .NET has not seen it exit, so the PID cannot belong to anyone else yet.
            if (!process.HasExited) _ = SendSignal(process.Id, SigTerm);   // fails only if it exited meanwhile
            using var deadline = new CancellationTokenSource(timeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }
        finally
        {
            process.Dispose();
        }
    }

    /// <summary>The last <paramref name="lines"/> lines of the member's log (none when it has no log yet).</summary>
    public IReadOnlyList<string> LogTail(int lines)
    {
        if (!File.Exists(LogPath)) return [];
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(Math.Max(0, stream.Length - MaxTailBytes), SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        var last = new Queue<string>(lines + 1);
        while (reader.ReadLine() is { } line)
        {
            last.Enqueue(line);
            if (last.Count > lines) last.Dequeue();
        }
        return [.. last];
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
