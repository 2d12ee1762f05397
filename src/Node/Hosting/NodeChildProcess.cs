using System.Diagnostics;
using System.Globalization;

namespace KvActors.Node.Hosting;

/// <summary>
/// One node run as a child process of this program (<c>start ... --stop-when-input-closes</c>), its standard output and
/// error appended to a log file. Closing its input stops it through CoordinatedShutdown, so a parent that dies, even by
/// <c>kill -9</c>, leaves no orphan node. Used by <c>local</c> and by the benchmark.
/// </summary>
public sealed class NodeChildProcess
{
    private readonly StreamWriter _log;

    private NodeChildProcess(string nodeId, string logPath, Process process, StreamWriter log)
    {
        NodeId = nodeId;
        LogPath = logPath;
        Process = process;
        _log = log;
    }

    /// <summary>The node's id, e.g. <c>n1</c>.</summary>
    public string NodeId { get; }

    /// <summary>The node's log file (appended to across restarts).</summary>
    public string LogPath { get; }

    /// <summary>The running process.</summary>
    public Process Process { get; }

    /// <summary>
    /// Starts node <paramref name="nodeId"/> listening on <paramref name="endpoint"/>, with its data (and <c>node.log</c>)
    /// in <paramref name="directory"/>. <paramref name="seeds"/>, <paramref name="shards"/> and
    /// <paramref name="replication"/> are passed as <c>start</c> takes them; <paramref name="configFile"/> is an
    /// operator's HOCON file, or null.
    /// </summary>
    public static NodeChildProcess Start(string nodeId, string endpoint, IReadOnlyList<string> seeds, string directory,
        int shards, int replication, string? configFile)
    {
        Directory.CreateDirectory(directory);
        string logPath = Path.Combine(directory, "node.log");
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };

        var start = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath!,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Under `dotnet KvActors.Node.dll`, or from another program (the benchmark), run the node's own assembly.
        if (!string.Equals(Path.GetFileNameWithoutExtension(start.FileName), "KvActors.Node", StringComparison.Ordinal))
        {
            start.FileName = "dotnet";
            start.ArgumentList.Add(typeof(NodeChildProcess).Assembly.Location);
        }
        foreach (string argument in (string[])["start", "--node-id", nodeId, "--port", endpoint[(endpoint.LastIndexOf(':') + 1)..],
                     "--seeds", string.Join(",", seeds), "--data-dir", directory,
                     "--shards", shards.ToString(CultureInfo.InvariantCulture), "--replication", replication.ToString(CultureInfo.InvariantCulture),
                     "--stop-when-input-closes"])
            start.ArgumentList.Add(argument);
        if (configFile is not null)
        {
            start.ArgumentList.Add("--config");
            start.ArgumentList.Add(configFile);
        }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new NodeChildProcess(nodeId, logPath, process, log);
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null) return;
        lock (log) log.WriteLine(line);
    }

    /// <summary>The last <paramref name="lines"/> lines of the node's log.</summary>
    public IEnumerable<string> LogTail(int lines)
    {
        lock (_log) _log.Flush();
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var last = new Queue<string>();
        while (reader.ReadLine() is { } line)
        {
            last.Enqueue(line);
            if (last.Count > lines) last.Dequeue();
        }
        return last;
    }

    /// <summary>
    /// Closes every node's input, so each stops through CoordinatedShutdown, and waits up to <paramref name="timeout"/> in
    /// all; a node still running then is killed. Releases the processes and their logs.
    /// </summary>
    public static async Task StopAllAsync(IEnumerable<NodeChildProcess> children, TimeSpan timeout)
    {
        NodeChildProcess[] all = [.. children];
        foreach (NodeChildProcess child in all)
        {
            try
            {
                child.Process.StandardInput.Close();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                // Already exited.
            }
        }
        using var deadline = new CancellationTokenSource(timeout);
        foreach (NodeChildProcess child in all)
        {
            try
            {
                await child.Process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                child.Process.Kill(entireProcessTree: true);
                await child.Process.WaitForExitAsync(CancellationToken.None);
            }
            lock (child._log) child._log.Dispose();
            child.Process.Dispose();
        }
    }
}
