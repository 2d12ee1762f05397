using System.Collections.Concurrent;
using System.Diagnostics;
using KvActors.Tests.Shared;
using Xunit.Abstractions;

namespace KvActors.Chaos.Tests.Harness;

/// <summary>
/// Real processes of this repository's programs (the node and kvctl, built next to the tests), with their output kept
/// in memory and in the test log, waited on by condition, and ended by this test alone (by PID).
/// </summary>
internal sealed class ProcessHarness(ITestOutputHelper log) : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly List<RunningProcess> _processes = [];

    /// <summary>
    /// Runs a test's body; if it fails, stops copying node output to the test log and writes the failure as the log's
    /// last line, so that the end of a long log (all a CI summary shows) says what went wrong, not how nodes shut down.
    /// </summary>
    public async Task<T> ReportingFailureAsync<T>(Func<Task<T>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e)
        {
            Mute();
            log.WriteLine($"FAILED: {e.GetType().Name}: {e.Message}");
            Console.WriteLine($"FAILED: {e.GetType().Name}: {e.Message}");
            throw;
        }
    }

    /// <inheritdoc cref="ReportingFailureAsync{T}(Func{Task{T}})"/>
    public Task ReportingFailureAsync(Func<Task> body) => ReportingFailureAsync(async () =>
    {
        await body();
        return true;
    });

    private void Mute()
    {
        lock (_processes)
        {
            foreach (RunningProcess process in _processes) process.Mute();
        }
    }

    /// <summary>Starts <paramref name="program"/> (<c>KvActors.Node</c> or <c>kvctl</c>, from the test's folder) with arguments.</summary>
    public RunningProcess Start(string name, string program, params string[] arguments) => Launch(name, program, logFile: null, environment: null, arguments);

    /// <summary>As <see cref="Start(string, string, string[])"/>, also appending every line it prints to <paramref name="logFile"/>.</summary>
    /// <remarks>A name of its own: an overload taking the log file as a third string would capture the first argument.</remarks>
    public RunningProcess StartLogged(string name, string program, string logFile, params string[] arguments) =>
        Launch(name, program, logFile, environment: null, arguments);

    /// <summary>As <see cref="StartLogged(string, string, string, string[])"/>, with these environment variables set.</summary>
    public RunningProcess StartLogged(string name, string program, string logFile, IReadOnlyDictionary<string, string> environment,
        params string[] arguments) =>
        Launch(name, program, logFile, environment, arguments);

    private RunningProcess Launch(string name, string program, string? logFile, IReadOnlyDictionary<string, string>? environment, string[] arguments)
    {
        var start = new ProcessStartInfo
        {
            FileName = "dotnet",
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, program + ".dll"));
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        foreach ((string variable, string value) in environment ?? new Dictionary<string, string>()) start.Environment[variable] = value;
        var process = new RunningProcess(name, Process.Start(start)!, log, logFile);
        lock (_processes) _processes.Add(process);
        return process;
    }

    /// <summary>Runs kvctl to completion; returns its exit code and output.</summary>
    public async Task<(int ExitCode, string Output, string Error)> KvctlAsync(params string[] arguments)
    {
        RunningProcess kvctl = Start("kvctl " + string.Join(' ', arguments), "kvctl", arguments);
        kvctl.Process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Wait);
        await kvctl.Process.WaitForExitAsync(timeout.Token);
        kvctl.Process.WaitForExit();      // drains the asynchronous output readers
        return (kvctl.Process.ExitCode, kvctl.Output, kvctl.Errors);
    }

    /// <summary>A loopback port for a node (Chaos.Tests draws from 20000–25999; see <see cref="TestPorts"/>).</summary>
    public static int FreePort() => TestPorts.Next(20_000, 6_000);

    public async ValueTask DisposeAsync()
    {
        Mute();      // what nodes print while they are killed is noise
        RunningProcess[] processes;
        lock (_processes) processes = [.. _processes];
        foreach (RunningProcess process in processes)
        {
            if (!process.Process.HasExited) process.Process.Kill(entireProcessTree: true);
            await process.Process.WaitForExitAsync();
            process.Process.WaitForExit();      // drains the output readers before the log closes
            process.CloseLog();
            process.Process.Dispose();
        }
    }
}

/// <summary>One process started by a <see cref="ProcessHarness"/>: its output, lines awaited, and signals.</summary>
internal sealed class RunningProcess
{
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly SemaphoreSlim _lines = new(0);

    private readonly StreamWriter? _file;
    private volatile bool _muted;

    public RunningProcess(string name, Process process, ITestOutputHelper log, string? logFile)
    {
        Name = name;
        Process = process;
        if (logFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
            _file = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }
        process.OutputDataReceived += (_, e) => Receive(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Receive(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        void Receive(ConcurrentQueue<string> queue, string? line)
        {
            if (line is null) return;
            queue.Enqueue(line);
            _lines.Release();
            if (_file is not null)
            {
                lock (_file)
                {
                    if (_file.BaseStream.CanWrite) _file.WriteLine(line);
                }
            }
            if (_muted || IsRemotingStackFrame(line)) return;
            try
            {
                log.WriteLine($"[{name}] {line}");
            }
            catch (InvalidOperationException)
            {
                // The test has finished; its log is closed.
            }
        }
    }

    public string Name { get; }
    public Process Process { get; }
    public string Output => string.Join('\n', _stdout);

    /// <summary>The lines of standard output so far.</summary>
    public IReadOnlyCollection<string> Lines => _stdout;
    public string Errors => string.Join('\n', _stderr);

    /// <summary>Waits for a line of standard output that satisfies <paramref name="match"/>; fails if the process exits first.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? ProcessHarness.Wait);
        while (true)
        {
            if (_stdout.FirstOrDefault(match) is { } line) return line;
            if (Process.HasExited)
                throw new InvalidOperationException($"{Name} exited with code {Process.ExitCode} before printing the line awaited; stderr: {Errors}");
            try
            {
                await _lines.WaitAsync(TimeSpan.FromMilliseconds(200), timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Name} did not print the line awaited within {within ?? ProcessHarness.Wait}; output so far:\n{Output}\nstderr:\n{Errors}");
            }
        }
    }

    /// <summary>Sends a POSIX signal (<c>INT</c>, <c>TERM</c>) to the process, as a terminal or a supervisor would.</summary>
    public void Signal(string signal)
    {
        using Process kill = Process.Start("kill", ["-s", signal, Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    /// <summary>Stops copying this process's output to the test log (its log file still gets every line).</summary>
    public void Mute() => _muted = true;

    // Akka.Remote logs a stack trace with every lost association: in the test log they bury what the nodes said.
    private static bool IsRemotingStackFrame(string line) =>
        line.StartsWith("   at Akka.", StringComparison.Ordinal) || line.StartsWith("Cause: Akka.Remote.", StringComparison.Ordinal);

    /// <summary>Closes the log file, once the process has exited and its output is drained.</summary>
    public void CloseLog()
    {
        if (_file is null) return;
        lock (_file) _file.Dispose();
    }

    /// <summary>Ends the process at once, as <c>kill -9</c> does: nothing is flushed, nothing shuts down.</summary>
    public void Kill9()
    {
        Process.Kill();
        Process.WaitForExit();
    }
}
