using System.Globalization;

namespace KvActors.Bench.Load;

/// <summary>CPU time (user + system) that processes have used so far, read from <c>/proc/PID/stat</c>.</summary>
internal static class ProcessCpu
{
    // Linux reports utime and stime in clock ticks, USER_HZ, which is 100 on every kernel build that .NET runs on.
    private const double TicksPerSecond = 100.0;

    /// <summary>The CPU seconds the processes have used since they started; a process that has exited counts 0.</summary>
    public static double Seconds(IEnumerable<int> processIds)
    {
        double total = 0;
        foreach (int pid in processIds) total += Seconds(pid);
        return total;
    }

    /// <summary>The CPU seconds of this process.</summary>
    public static double OwnSeconds() => Environment.ProcessId is var pid ? Seconds(pid) : 0;

    private static double Seconds(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return 0;
        }
        // The command name (field 2) is in parentheses and may hold spaces: the fields that follow start after the last ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14 and 15 (utime, stime) are at 11 and 12 once the pid and the name are cut off.
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / TicksPerSecond;
    }
}
