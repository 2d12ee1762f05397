using Akka.Configuration;

namespace KvActors.Node.Hosting;

/// <summary>
/// One <c>kvactors.*</c> section of a node's HOCON, read with checks whose errors name the full key: every settings
/// record reads its section through this.
/// </summary>
internal sealed class SettingsSection
{
    private readonly Config _config;
    private readonly string _path;

    /// <summary>The section at <paramref name="path"/>; <paramref name="file"/> is the <c>hocon/</c> file that defines it.</summary>
    /// <exception cref="ConfigurationException">The section is missing.</exception>
    public SettingsSection(Config config, string path, string file)
    {
        _config = config.GetConfig(path) ?? throw new ConfigurationException($"{path} is missing; include hocon/{file}");
        _path = path;
    }

    public int GetInt(string key) => _config.GetInt(key);

    public long GetLong(string key) => _config.GetLong(key);

    public bool GetBoolean(string key) => _config.GetBoolean(key);

    /// <summary>A duration that must be positive.</summary>
    public TimeSpan PositiveDuration(string key) =>
        _config.GetTimeSpan(key) is var span && span > TimeSpan.Zero ? span : throw Invalid(key, "must be a positive duration");

    /// <summary>A size in bytes that must be positive.</summary>
    public long PositiveBytes(string key) =>
        _config.GetByteSize(key) is { } bytes and > 0 ? bytes : throw Invalid(key, "must be a positive size");

    /// <summary>An error about <paramref name="key"/> that names it in full.</summary>
    public ConfigurationException Invalid(string key, string rule) => new($"{_path}.{key} {rule}");
}
