using WorkflowTriggers.Engine.Routing;
using WorkflowTriggers.Engine.Triggers;

namespace WorkflowTriggers;

/// <summary>A workflow trigger as the cmdlets return it; Config is an object to dot into.</summary>
public sealed class WorkflowTrigger
{
    private object? _config;
    private bool _configParsed;

    public int Id { get; init; }
    public string Name { get; init; } = string.Empty;
    public string? Description { get; init; }
    public string WorkflowId { get; init; } = string.Empty;

    /// <summary>From the engine's workflows table where it exists; empty otherwise.</summary>
    public string WorkflowName { get; init; } = string.Empty;
    public string Source { get; init; } = string.Empty;
    public string EventType { get; init; } = string.Empty;
    public string? TargetNodeId { get; init; }

    /// <summary>
    /// The config as an ordered dictionary with case-sensitive keys ($t.Config.monitor_path), built on first use: a
    /// million rows counted or filtered by other properties never pay for parsing JSON they do not read. Change it in
    /// place or assign a new one, then pipe the trigger to Set-WorkflowTrigger.
    /// </summary>
    public object? Config
    {
        get
        {
            if (!_configParsed)
            {
                _config = ConfigConverter.FromJson(ConfigJson);
                _configParsed = true;
            }

            return _config;
        }

        set
        {
            _config = value;
            _configParsed = true;
        }
    }

    /// <summary>The config as the database returned it (JSON text).</summary>
    public string? ConfigJson { get; init; }
    public bool IsActive { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }

    /// <summary>
    /// The row's version when it was read. Set-WorkflowTrigger, Set-TriggerTargetNode, Enable-, Disable- and
    /// Remove-WorkflowTrigger refuse to write over a trigger whose row has changed since (TriggerChangedSinceRead),
    /// unless -Force.
    /// </summary>
    public long RowVersion { get; init; }

    /// <summary>'targeted' when a target node is set, else 'auto_detected', as the node_targeting_stats view names them.</summary>
    public string RoutingType => Engine.Routing.RoutingType.Of(TargetNodeId);

    public override string ToString() => $"{Id}: {Name}";

    /// <summary>The config as it stands on this object: as read, unless Config was read into objects (and so may have been changed) or assigned.</summary>
    internal string? CurrentConfigJson() => _configParsed ? ConfigConverter.ToJson(_config) ?? "{}" : ConfigJson;

    internal static WorkflowTrigger From(TriggerRecord record) => new()
    {
        Id = record.Id,
        Name = record.Name,
        Description = record.Description,
        WorkflowId = record.WorkflowId,
        WorkflowName = record.WorkflowName ?? string.Empty,
        Source = record.Source,
        EventType = record.EventType,
        TargetNodeId = record.TargetNodeId,
        ConfigJson = record.ConfigJson,
        IsActive = record.IsActive,
        CreatedAt = LocalTime.Of(record.CreatedAt),
        UpdatedAt = LocalTime.Of(record.UpdatedAt),
        RowVersion = record.RowVersion,
    };

    internal TriggerRecord ToRecord() => new()
    {
        Id = Id,
        Name = Name,
        Description = Description,
        WorkflowId = WorkflowId,
        WorkflowName = WorkflowName,
        Source = Source,
        EventType = EventType,
        TargetNodeId = TargetNodeId,
        ConfigJson = CurrentConfigJson(),
        IsActive = IsActive,
        CreatedAt = CreatedAt.ToUniversalTime(),
        UpdatedAt = UpdatedAt.ToUniversalTime(),
        RowVersion = RowVersion,
    };
}
